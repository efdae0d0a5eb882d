//! S7comm (protocol id 0x32): the classic S7-300/400 protocol, also spoken by
//! S7-1200/1500 for PUT/GET and by HMIs, SCADA and engineering tools.
//!
//! [`parse`] decodes one PDU (the reassembled user data of a COTP DT unit)
//! into a zero-copy [`Message`]: [`Header`], the parameter part as a [`Param`]
//! by ROSCTR and function, the data part, and [`Anomalies`]. Read/Write Var
//! items iterate with [`Items`], values with [`DataItems`], response return
//! codes with [`return_codes`]. Userdata Read SZL data decodes with
//! [`szl_request`] and [`szl_response`] (records: [`crate::s7::szl`]).
//! [`encode`] builds PDUs.
//!
//! | module | holds |
//! |---|---|
//! | `header` | header layout, [`Header`] |
//! | `types` | ROSCTR, functions, areas, transport sizes, return and error codes, userdata groups |
//! | `item` | Read/Write Var items and data items |
//! | `params` | [`Param`], block file names, [`pi_blocks`] |
//! | `userdata` | userdata parameter layout, data header, Read SZL |
//! | `message` | [`Message`], [`parse`], [`return_codes`] |
//! | `anomaly` | [`Anomalies`] |
//! | `encode` | [`encode`] |

mod anomaly;
mod encode;
mod header;
mod item;
mod message;
mod params;
mod types;
mod userdata;

pub use anomaly::Anomalies;
pub use encode::encode;
pub use header::{ACK_HEADER_LEN, HEADER_LEN, Header, PROTOCOL_ID, field};
pub use item::{
    AnyItem, DATA_ITEM_HEADER_LEN, DataItem, DataItems, Item, ItemIter, Items, S7ANY_SPEC_LEN,
    VAR_SPEC, data_items,
};
pub use message::{Message, ReturnCodes, parse, return_codes};
pub use params::{BLOCK_FILENAME_LEN, Block, Param, pi_blocks};
pub use types::{
    Area, BlockType, DataTransportSize, ErrorClass, ErrorCode, Function, ReturnCode, Rosctr,
    SyntaxId, TransportSize, UserdataGroup, UserdataKind, subfunction, subfunction_name,
};
pub use userdata::field as userdata_field;
pub use userdata::{
    DATA_HEADER_LEN, EXTENDED_FORM_LEN, SHORT_FORM_LEN, SZL_HEADER_LEN, SzlResponse, UserdataData,
    szl_request, szl_response, szl_response_payload, userdata_data, write_szl_request,
    write_szl_response, write_userdata_data,
};
