//! X.509 certificates carried by OPC UA (filled in next).
