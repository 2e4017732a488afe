//! Runs last of the integration suites (cargo runs them in name order): says in one line which
//! tests of this run were skipped because `FIRESHARE_SKIP_SHARED=1` opted out of the shared
//! reference data.

mod common;

use std::io::Write;

#[test]
fn say_what_was_skipped() {
    let Ok(notes) = std::fs::read_to_string(common::skipped_notes()) else {
        return;
    };
    let skipped: Vec<&str> = notes.lines().collect();
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n*** {} tests were NOT RUN (FIRESHARE_SKIP_SHARED=1, no shared reference data): {} ***\n",
        skipped.len(),
        skipped.join(", ")
    );
    let _ = std::fs::remove_file(common::skipped_notes());
}
