//! Modbus/TCP (MBAP framing and the Modbus application protocol).
