//! Unpredictable values from the host's CSPRNG (`wasi:random` under Spin).

/// `N` random bytes. A failing CSPRNG must never degrade into predictable identifiers,
/// so the caller gets an error and answers with a server error.
pub fn bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)?;
    Ok(buf)
}
