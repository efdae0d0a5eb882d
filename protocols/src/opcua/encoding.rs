//! OPC UA binary encoding (filled in next).
