//! Application sessions over a TCP flow: Modbus/TCP (the client's transaction counter and the
//! encoded ADUs of the exchange in progress) and S7 over ISO-on-TCP (COTP connection, PDU
//! references, and the TPKT frames each side has queued but not yet sent).

use std::ops::Range;

use anyhow::{Context, Result};
use faro_protocols::s7::{cotp, tpkt};

use crate::capture::{PacketSink, Wire};
use crate::modbus::{Plc, Request};
use crate::tcp::{Side, TcpFlow};
use crate::truth::FunctionKey;

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

/// An S7 session: a TCP flow carrying TPKT frames around COTP TPDUs, the PDU reference each
/// side numbers its Jobs with, and the frames each side has queued for its next segment.
///
/// Requests are noted in the flow's ledger at the stream offsets their frames will occupy, so
/// frames must be sent in the order queued, before anything else from the same side.
#[derive(Debug, Clone)]
pub(crate) struct S7Session {
    pub(crate) flow: TcpFlow,
    client_pdu_ref: u16,
    server_pdu_ref: u16,
    client_queue: Vec<u8>,
    server_queue: Vec<u8>,
    /// The S7comm PDU being framed.
    pdu: Vec<u8>,
    /// The COTP TPDU being framed.
    tpdu: Vec<u8>,
}

impl S7Session {
    pub(crate) fn new(flow: TcpFlow, first_pdu_ref: u16) -> Self {
        Self {
            flow,
            client_pdu_ref: first_pdu_ref,
            server_pdu_ref: first_pdu_ref.rotate_left(8),
            client_queue: Vec::with_capacity(512),
            server_queue: Vec::with_capacity(512),
            pdu: Vec::with_capacity(256),
            tpdu: Vec::with_capacity(256),
        }
    }

    /// The PDU reference of the next Job or request `side` sends (each side numbers its own).
    pub(crate) fn next_pdu_ref(&mut self, side: Side) -> u16 {
        let counter = match side {
            Side::Client => &mut self.client_pdu_ref,
            Side::Server => &mut self.server_pdu_ref,
        };
        let pdu_ref = *counter;
        *counter = counter.wrapping_add(1);
        pdu_ref
    }

    fn queue_and_flow(&mut self, side: Side) -> (&mut Vec<u8>, &mut TcpFlow) {
        match side {
            Side::Client => (&mut self.client_queue, &mut self.flow),
            Side::Server => (&mut self.server_queue, &mut self.flow),
        }
    }

    /// Queues a COTP CR (from the client) or CC (from the server) in one TPKT.
    pub(crate) fn queue_connection(
        &mut self,
        side: Side,
        connection: &cotp::Connection<'_>,
    ) -> Result<()> {
        self.tpdu.clear();
        match side {
            Side::Client => cotp::encode_cr(&mut self.tpdu, connection),
            Side::Server => cotp::encode_cc(&mut self.tpdu, connection),
        }
        .context("encoding COTP connection TPDU")?;
        let queue = match side {
            Side::Client => &mut self.client_queue,
            Side::Server => &mut self.server_queue,
        };
        tpkt::encode(queue, &self.tpdu).context("framing COTP connection TPDU")
    }

    /// Queues the S7comm PDU `build` appends (it returns what a sensor counts the PDU as) from
    /// `side`: in one DT TPDU with EOT, or, with `split`, in two DT TPDUs (the first `split`
    /// bytes without EOT, the rest with it), each in its own TPKT. A request is noted in the
    /// ledger over all of its frames.
    pub(crate) fn queue_pdu(
        &mut self,
        side: Side,
        split: Option<usize>,
        build: impl FnOnce(&mut Vec<u8>) -> Result<Option<FunctionKey>>,
    ) -> Result<()> {
        self.pdu.clear();
        let key = build(&mut self.pdu)?;
        let (first, second) = match split {
            Some(at) => {
                let (first, second) = self
                    .pdu
                    .split_at_checked(at)
                    .context("split point past the PDU")?;
                (first, Some(second))
            }
            None => (self.pdu.as_slice(), None),
        };
        let (queue, flow) = match side {
            Side::Client => (&mut self.client_queue, &mut self.flow),
            Side::Server => (&mut self.server_queue, &mut self.flow),
        };
        let start = queue.len();
        for (piece, eot) in [(Some(first), second.is_none()), (second, true)] {
            let Some(piece) = piece else { continue };
            self.tpdu.clear();
            cotp::encode_dt(&mut self.tpdu, eot, piece);
            tpkt::encode(queue, &self.tpdu).context("framing COTP DT TPDU")?;
        }
        if let Some(key) = key {
            let base = flow.next_offset(side);
            flow.note_request_from(side, base + start as u64..base + queue.len() as u64, key);
        }
        Ok(())
    }

    /// Sends everything `side` has queued in one segment.
    pub(crate) fn send<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
    ) -> Result<()> {
        let (queue, flow) = self.queue_and_flow(side);
        flow.send(wire, at, side, queue)?;
        queue.clear();
        Ok(())
    }

    /// Sends what `side` has queued in segments cut at `cuts` (offsets into the queue, rising),
    /// `spacing` apart; returns the time of the last segment.
    pub(crate) fn send_in_pieces<S: PacketSink>(
        &mut self,
        wire: &mut Wire<S>,
        at: u64,
        side: Side,
        cuts: &[usize],
        spacing: u64,
    ) -> Result<u64> {
        let (queue, flow) = self.queue_and_flow(side);
        let mut at = at;
        let mut from = 0;
        for (i, &to) in cuts.iter().chain([queue.len()].iter()).enumerate() {
            if i > 0 {
                at += spacing;
            }
            let piece = queue
                .get(from..to)
                .context("cut outside the queued bytes")?;
            flow.send(wire, at, side, piece)?;
            from = to;
        }
        queue.clear();
        Ok(at)
    }
}
