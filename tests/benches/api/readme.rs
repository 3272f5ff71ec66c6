//! The README's tables of measurements are the benchmark's own output: a section run writes
//! its report into `README.md` between `<!-- bench:<section> -->` and
//! `<!-- /bench:<section> -->`, so that no figure there is copied by hand, and no column the
//! benchmark prints is dropped. Text around the markers is the README's own.

use std::path::Path;

use anyhow::{ensure, Result};

/// Put `report` between the section's markers in `readme`; say so when it has none.
pub fn write_section(readme: &Path, section: &str, report: &str) -> Result<()> {
    let text = std::fs::read_to_string(readme)?;
    let open = format!("<!-- bench:{section} -->");
    let close = format!("<!-- /bench:{section} -->");
    let (Some(start), Some(end)) = (text.find(&open), text.find(&close)) else {
        eprintln!("README.md has no {open} … {close}: not updated");
        return Ok(());
    };
    ensure!(start < end, "README.md: {close} comes before {open}");
    let updated = format!(
        "{}{open}\n{}\n{}",
        &text[..start],
        report.trim(),
        &text[end..]
    );
    std::fs::write(readme, updated)?;
    eprintln!("README.md: the {section} section now holds this run's report");
    Ok(())
}
