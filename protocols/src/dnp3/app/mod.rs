//! The DNP3 application layer (IEEE 1815-2012 clauses 4 and 11): fragments,
//! function codes, internal indications, object headers and the values the
//! detections and the inventory read.
//!
//! [`parse`] decodes one reassembled fragment into a zero-copy [`Fragment`]:
//! [`AppControl`], [`FunctionCode`], the [`Iin`] of responses, the
//! [`Objects`] and [`Anomalies`]. [`Objects::iter`] walks the object headers
//! ([`ObjectHeader`]); each carries its [`ObjectValues`] (CROBs, analog
//! outputs, device attributes, time, files...) and enumerates its objects
//! with [`ObjectHeader::points`]. How far the objects of a header reach comes
//! from the [`CATALOG`], generated from one table. [`encode`] and the
//! `write_*` helpers build fragments.
//!
//! | module | holds |
//! |---|---|
//! | `header` | application header layout, [`AppControl`], [`Fragment`], [`parse`], [`encode`] |
//! | `function` | [`FunctionCode`] |
//! | `iin` | [`Iin`] |
//! | `object` | [`Qualifier`], [`Range`], [`ObjectHeader`], [`Objects`], [`Points`], [`PackedBits`] |
//! | `catalog` | [`ObjectKind`], [`object_kind`], [`object_name`], [`CATALOG`] |
//! | `values` | [`ObjectValues`] and the typed objects |
//! | `anomaly` | [`Anomalies`] |
//! | `encode` | object writers |

mod anomaly;
mod catalog;
mod encode;
mod function;
mod header;
mod iin;
mod object;
mod values;

pub use anomaly::Anomalies;
pub use catalog::{CATALOG, CatalogEntry, ObjectKind, object_kind, object_name};
pub use encode::{
    indexed_qualifier, write_analog_outputs, write_attribute, write_attribute_read, write_class,
    write_crobs, write_file_command, write_free_format, write_iin_clear, write_indexed_times,
    write_object_header, write_time,
};
pub use function::FunctionCode;
pub use header::{
    AppControl, Fragment, REQUEST_HEADER_LEN, RESPONSE_HEADER_LEN, encode, field, parse,
};
pub use iin::Iin;
pub use object::{
    ObjectHeader, ObjectIter, Objects, PackedBits, Point, Points, Prefix, Qualifier, Range,
};
pub use values::{
    AnalogOutput, AnalogOutputs, AnalogValue, AttributeDataType, AttributeValue,
    AttributeVariation, CROB_LEN, CommandStatus, Crob, Crobs, Delay, FILE_AUTHENTICATION_FIXED_LEN,
    FILE_COMMAND_FIXED_LEN, FILE_DESCRIPTOR_FIXED_LEN, FileCommand, FileMode, FileObject,
    FileObjects, FileStatus, Interval, IntervalUnits, LAST_BLOCK, ObjectValues, OpType,
    TimeAndDate, Times, TripCloseCode, attribute_value,
};
