//! Housekeeping on cold paths: removes expired records (see `store::sweep`) after the
//! answer has been handed to the host, so nobody waits for it. Registration and the
//! consent page carry it, so token and MCP requests never pay for it; it rides only on
//! requests that succeeded (a refused one changes nothing) and never fails them.

use platform::{clock, kv::SpinKv};

/// Whether a request that was answered with `status` should sweep.
pub fn follows(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Sweeps if one is due, logging what it did.
pub fn if_due() {
    let result = SpinKv::open_default().and_then(|kv| store::sweep::run_if_due(&kv, clock::now()));
    match result {
        Ok(Some(report)) => eprintln!(
            "sweep: removed {} expired records from {} index slots in {} store calls{}",
            report.removed,
            report.slots,
            report.calls,
            if report.complete {
                ""
            } else {
                " (resuming soon)"
            }
        ),
        Ok(None) => {}
        Err(e) => eprintln!("sweep failed, retrying in an hour: {e}"),
    }
}
