//! Housekeeping on cold paths: removes expired records at most hourly (see
//! `store::sweep`). Registration and the consent page carry it, so token and MCP
//! requests never pay for it; it rides only on requests that succeeded (a rejected one
//! changes nothing) and never fails them.

use platform::{clock, kv::SpinKv, random};
use spin_sdk::http::Response;

/// Sweeps if one is due and `response` is a success; returns `response` unchanged.
pub fn after(response: Response) -> Response {
    if (200..300).contains(response.status()) {
        if_due();
    }
    response
}

fn if_due() {
    let result = SpinKv::open_default().and_then(|kv| {
        // A random start, so that budget-limited sweeps reach every record in turn.
        let start = random::bytes::<8>().map_or(0, u64::from_le_bytes) as usize;
        store::sweep::run_if_due(&kv, clock::now(), start)
    });
    match result {
        Ok(Some(report)) => eprintln!(
            "sweep: removed {} expired of {} records examined{}",
            report.removed,
            report.examined,
            if report.complete {
                ""
            } else {
                " (resuming soon)"
            }
        ),
        Ok(None) => {}
        Err(e) => eprintln!("sweep failed: {e}"),
    }
}
