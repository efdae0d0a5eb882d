//! OPC UA services (filled in next).
