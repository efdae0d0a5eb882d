//! Modbus/TCP (MBAP framing and the Modbus application protocol).
//!
//! The streaming entry points are [`probe`] (is this Modbus?), [`frame`] (one
//! ADU at the start of a buffer) and [`parse`] (decode a framed ADU into a
//! zero-copy [`Message`] with [`Anomalies`]). [`response_anomalies`] checks a
//! response against its request; [`encode`] builds ADUs.
//!
//! Reference: MODBUS Application Protocol Specification V1.1b3 and MODBUS
//! Messaging on TCP/IP Implementation Guide V1.0b.
//!
//! | module | holds |
//! |---|---|
//! | `wire` | MBAP header layout, [`frame`], [`probe`] |
//! | `types` | function, exception, sub-function and MEI codes; tables |
//! | `message` | [`Message`], [`Body`] and their zero-copy parts |
//! | `parse` | [`parse`] |
//! | `anomaly` | [`Anomalies`], quantity limits, [`response_anomalies`] |
//! | `direction` | [`direction_hint`]: request or response, from the bytes alone |
//! | `encode` | [`encode`] |

mod anomaly;
mod direction;
mod encode;
mod message;
mod parse;
mod types;
mod wire;

pub use anomaly::{
    Anomalies, MAX_FIFO_COUNT, MAX_READ_BITS, MAX_READ_REGISTERS, MAX_READ_WRITE_WRITE_REGISTERS,
    MAX_WRITE_COILS, MAX_WRITE_REGISTERS, anomaly_name, response_anomalies,
};
pub use direction::direction_hint;
pub use encode::{encode, write_body};
pub use message::{
    Accesses, Body, DataAccess, DeviceIdObject, DeviceIdObjectIter, DeviceIdObjects,
    FILE_REFERENCE_TYPE, FileRecordRequest, FileRecordRequests, Message, ServerIdReport,
};
pub use parse::parse;
pub use types::{
    Access, DeviceIdObjectId, DiagnosticSubFunction, Direction, ExceptionCode, FunctionClass,
    FunctionCode, MeiType, ReadDeviceIdCode, Table, device_id_object_name,
};
pub use wire::{
    Adu, MAX_FRAMED_LENGTH, MAX_MBAP_LENGTH, MBAP_HEADER_LEN, MIN_MBAP_LENGTH, MODBUS_PROTOCOL_ID,
    MbapHeader, field, find_adu, find_boundary, frame, probe,
};
