//! A Modbus/TCP session: a TCP flow plus the client's transaction counter and the encoded ADUs of
//! the exchange in progress.

use std::ops::Range;

use anyhow::Result;

use crate::modbus::{Plc, Request};
use crate::tcp::{Side, TcpFlow};

#[derive(Debug, Clone)]
pub(crate) struct ModbusSession {
    pub(crate) flow: TcpFlow,
    pub(crate) unit_id: u8,
    next_transaction_id: u16,
    /// Transaction id of the first request of the current batch.
    batch_transaction_id: u16,
    /// Request ADUs of the current batch, back to back.
    pub(crate) request: Vec<u8>,
    /// Response ADUs of the current batch, back to back.
    pub(crate) response: Vec<u8>,
    /// Where each request ADU of the batch lies in [`Self::request`].
    pub(crate) request_bounds: Vec<Range<usize>>,
    /// Where each response ADU of the batch lies in [`Self::response`].
    pub(crate) response_bounds: Vec<Range<usize>>,
    scratch: Vec<u8>,
}

impl ModbusSession {
    pub(crate) fn new(flow: TcpFlow, unit_id: u8, first_transaction_id: u16) -> Self {
        Self {
            flow,
            unit_id,
            next_transaction_id: first_transaction_id,
            batch_transaction_id: first_transaction_id,
            request: Vec::with_capacity(512),
            response: Vec::with_capacity(512),
            request_bounds: Vec::new(),
            response_bounds: Vec::new(),
            scratch: Vec::with_capacity(256),
        }
    }

    /// Encodes `requests` back to back into [`Self::request`] and notes each in the flow's ledger
    /// at the offsets they will occupy when sent from the client's next offset.
    pub(crate) fn encode_requests(&mut self, requests: &[Request]) -> Result<()> {
        self.request.clear();
        self.request_bounds.clear();
        self.batch_transaction_id = self.next_transaction_id;
        let base = self.flow.next_offset(Side::Client);
        for request in requests {
            let start = self.request.len();
            request.encode(
                &mut self.request,
                self.next_transaction_id,
                self.unit_id,
                &mut self.scratch,
            )?;
            self.next_transaction_id = self.next_transaction_id.wrapping_add(1);
            let end = self.request.len();
            self.request_bounds.push(start..end);
            self.flow
                .note_request(base + start as u64..base + end as u64, request.function().0);
        }
        Ok(())
    }

    /// Encodes `plc`'s answers to the current batch into [`Self::response`].
    pub(crate) fn encode_responses(&mut self, plc: &mut Plc, requests: &[Request]) -> Result<()> {
        self.response.clear();
        self.response_bounds.clear();
        let mut transaction_id = self.batch_transaction_id;
        for request in requests {
            let start = self.response.len();
            plc.answer(request, transaction_id, self.unit_id, &mut self.response)?;
            self.response_bounds.push(start..self.response.len());
            transaction_id = transaction_id.wrapping_add(1);
        }
        Ok(())
    }

    /// Transaction id the next request will carry.
    pub(crate) fn next_transaction_id(&self) -> u16 {
        self.next_transaction_id
    }

    /// Makes the next request carry `transaction_id`.
    pub(crate) fn set_next_transaction_id(&mut self, transaction_id: u16) {
        self.next_transaction_id = transaction_id;
    }
}
