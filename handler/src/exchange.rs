//! The turns of one call, from the backend's side: the one owner of the
//! call protocol.
//!
//! ```text
//!   backend                         executor
//!   CALL(key, args)          ──>    runs the body
//!                            <──    UPCALL(request)     (any number of times:
//!   serve it (SPI, a message,         a message, SPI, rows; SPI may call
//!   rows), maybe nested calls         plrust again, and a nested call of
//!   RESUME(answer)           ──>      the same principal comes to this
//!                            <──    OK(reply)             executor meanwhile)
//! ```
//!
//! `Exchange` holds the lease for the whole call and moves it through
//! those turns; call.rs only encodes arguments and decodes the reply.  Any
//! way out other than a complete reply (an ERROR while serving an upcall, a
//! malformed upcall, a cancel) leaves the lease mid-protocol, and ending it
//! kills the executor.

use pgrx::prelude::*;
use plrust_ipc::channel::INLINE;
use plrust_ipc::message::{op, status, Answer};
use plrust_ipc::wire;

use crate::acquire;
use crate::errors::raise;
use crate::lease::{Lease, LeaseState};
use crate::pool::Principal;
use crate::request::{self, executor_failed, failure_message};
use crate::upcall::{error_code, CallState};

pub struct Exchange<'f> {
    lease: Lease,
    key: u64,
    fn_name: &'f str,
    /// The executor's latest reply: (status, length).
    reply: (u32, usize),
}

impl<'f> Exchange<'f> {
    /// Lease an executor for the call (see acquire.rs).
    pub fn begin(
        principal: Principal,
        key: u64,
        fn_name: &'f str,
        object: Option<&[u8]>,
    ) -> Exchange<'f> {
        Exchange {
            lease: acquire::acquire(principal, key, fn_name, object),
            key,
            fn_name,
            reply: (status::OK, 0),
        }
    }

    /// Send the call with its encoded arguments and wait for the first
    /// reply (the result, or an upcall).
    pub fn send_call(&mut self, args: &[u8]) {
        self.reply = request::request(&mut self.lease, op::CALL, self.key, args, self.fn_name);
    }

    /// Serve the body's upcalls until it replies; returns the reply's
    /// length.  The reply bytes are then read with `reply_bytes`.
    pub fn serve_upcalls(&mut self, state: &mut CallState) -> usize {
        let mut upcall = Vec::new();
        while self.reply.0 == status::UPCALL {
            self.lease.awaiting_answer();
            self.check_between_upcalls();
            self.lease.channel().copy_reply(self.reply.1, &mut upcall);
            let answer = match state.serve(&upcall) {
                Ok(a) => a,
                Err(why) => self.protocol_error(&why),
            };
            if self.lease.condemned() {
                self.nested_call_broke_the_executor(answer);
            }
            let answer = wire::encode_to_vec(&answer);
            if answer.len() > plrust_ipc::limits::REQUEST_AREA {
                raise(
                    PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                    format!(
                        "plrust function \"{}\": an answer to it does not fit the channel",
                        self.fn_name
                    ),
                    Some(format!(
                        "{} bytes; at most {} fit.",
                        answer.len(),
                        plrust_ipc::limits::REQUEST_AREA
                    )),
                    Some("Read large results with select (a cursor), or LIMIT them.".into()),
                );
            }
            self.reply =
                request::request(&mut self.lease, op::RESUME, self.key, &answer, self.fn_name);
        }
        if self.reply.0 != status::OK {
            let msg = failure_message(&self.lease, self.reply.1);
            self.protocol_error(&msg);
        }
        self.reply.1
    }

    /// Between upcalls: serve interrupts and check the call's CPU budget.
    /// A body that makes upcalls faster than a wait slice would otherwise
    /// never reach the checks that the waits make.
    fn check_between_upcalls(&mut self) {
        pgrx::check_for_interrupts!();
        if let Some(limit) = self
            .lease
            .budget
            .as_mut()
            .and_then(|b| b.due_and_exceeded())
        {
            request::cpu_limit_exceeded(&mut self.lease, self.fn_name, limit);
        }
    }

    /// The reply of `len` bytes, copied out of shared memory: small ones
    /// into `inline` without allocating, others into `buf`.
    pub fn reply_bytes<'b>(
        &self,
        len: usize,
        inline: &'b mut [u8; INLINE],
        buf: &'b mut Vec<u8>,
    ) -> &'b [u8] {
        if len <= INLINE {
            *inline = self.lease.channel().copy_inline_reply();
            &inline[..len]
        } else {
            self.lease.channel().copy_reply(len, buf);
            &buf[..]
        }
    }

    /// A call nested in this upcall (the same principal's, so it ran in
    /// this executor) failed in a way that has the executor killed: this
    /// call cannot be resumed either.  It fails with the nested call's
    /// error, which says what happened, as the upcall's answer carried it
    /// (or, if the query caught that, as an executor that died).
    fn nested_call_broke_the_executor(&mut self, answer: Answer) -> ! {
        self.lease.state = LeaseState::Broken;
        match answer {
            Answer::Error {
                sqlstate,
                message,
                detail,
                hint,
                ..
            } => raise(error_code(sqlstate), message, detail, hint),
            _ => request::executor_died(&mut self.lease, self.fn_name),
        }
    }

    /// The executor broke the protocol: the call fails and the executor is
    /// replaced.
    pub fn protocol_error(&mut self, why: &str) -> ! {
        executor_failed(&mut self.lease, self.fn_name, why)
    }

    /// The call is over: give the executor back.
    pub fn finish(self) {
        drop(self.lease);
    }
}
