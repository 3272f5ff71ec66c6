// The migrations as the components carry them: cut to their statements and packed at build
// time (`build.rs` includes this file, and uses `compact` and `pack`), unpacked by a component
// only when it migrates (`unpack`). Packed, the SQL of every migration weighs a quarter of its
// text, about 10 KB less in every component. No `use` here: `build.rs` includes the file whole.

/// `source` but for its comment lines (`--` first on the line), each line's indent, and all
/// but one of a run of spaces, outside quotes and trailing comments; those are for the file's
/// readers. Only ASCII spaces and whole lines go, so UTF-8 stays whole.
#[allow(dead_code)] // build.rs's
pub fn compact(source: &[u8]) -> Vec<u8> {
    let mut kept = Vec::with_capacity(source.len());
    let mut quote = 0u8; // the quote a string or name is open in, across lines
    for line in source.split_inclusive(|b| *b == b'\n') {
        let indent = line
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        if quote == 0 && line[indent..].starts_with(b"--") {
            continue;
        }
        let mut verbatim = false; // in a trailing comment
        let start = if quote == 0 { indent } else { 0 };
        for (j, &b) in line.iter().enumerate().skip(start) {
            let blank = b == b' ' || b == b'\t';
            let keep = if quote != 0 || verbatim {
                if b == quote {
                    quote = 0;
                }
                true
            } else if b == b'\'' || b == b'"' {
                quote = b;
                true
            } else if b == b'-' && line.get(j + 1) == Some(&b'-') {
                verbatim = true;
                true
            } else {
                // One space of a run, and none before the line's end.
                let next = line.get(j + 1).copied().unwrap_or(b'\n');
                !(blank && matches!(next, b' ' | b'\t' | b'\n' | b'\r'))
            };
            if keep {
                kept.push(if blank && quote == 0 && !verbatim {
                    b' '
                } else {
                    b
                });
            }
        }
    }
    kept
}

/// The shortest copy worth a reference, and the longest one reference makes.
const MIN_COPY: usize = 3;
const MAX_COPY: usize = 0x7f + MIN_COPY;
/// The furthest back a copy reaches.
const WINDOW: usize = 0xffff;

/// Pack `data`: a byte below 0x80 starts a run of that many plus one bytes as they are; one
/// of 0x80 or more is a copy of `(b & 0x7f) + 3` bytes from the big-endian `u16` distance
/// that follows. The longest earlier match, greedily, among those that start with the same
/// three bytes.
#[allow(dead_code)] // build.rs's
pub fn pack(data: &[u8]) -> Vec<u8> {
    let mut packed = Vec::new();
    let mut literals: Vec<u8> = Vec::new();
    let flush = |packed: &mut Vec<u8>, literals: &mut Vec<u8>| {
        for run in literals.chunks(0x80) {
            packed.push((run.len() - 1) as u8);
            packed.extend_from_slice(run);
        }
        literals.clear();
    };
    // Where each three bytes were seen, latest last: the candidates for a copy.
    let mut seen: std::collections::HashMap<&[u8], Vec<usize>> = std::collections::HashMap::new();
    let mut i = 0;
    while i < data.len() {
        let (mut best_len, mut best_distance) = (0, 0);
        let key = data.get(i..i + MIN_COPY);
        if let Some(earlier) = key.and_then(|k| seen.get(k)) {
            for &from in earlier.iter().rev().take_while(|&&from| i - from <= WINDOW) {
                let len = (0..MAX_COPY.min(data.len() - i))
                    .take_while(|k| data[from + k] == data[i + k])
                    .count();
                if len > best_len {
                    (best_len, best_distance) = (len, i - from);
                }
            }
        }
        let step = if best_len >= MIN_COPY {
            flush(&mut packed, &mut literals);
            packed.push(0x80 | (best_len - MIN_COPY) as u8);
            packed.extend_from_slice(&(best_distance as u16).to_be_bytes());
            best_len
        } else {
            literals.push(data[i]);
            1
        };
        for at in i..i + step {
            if let Some(k) = data.get(at..at + MIN_COPY) {
                seen.entry(k).or_default().push(at);
            }
        }
        i += step;
    }
    flush(&mut packed, &mut literals);
    packed
}

/// What [`pack`] packed; `None` if `packed` is not its work.
#[allow(dead_code)] // the components'
pub fn unpack(packed: &[u8]) -> Option<Vec<u8>> {
    let mut data = Vec::with_capacity(packed.len() * 4);
    let mut i = 0;
    while let Some(&token) = packed.get(i) {
        if token < 0x80 {
            let run = packed.get(i + 1..i + 2 + usize::from(token))?;
            data.extend_from_slice(run);
            i += 2 + usize::from(token);
        } else {
            let far = packed.get(i + 1..i + 3)?;
            let distance = usize::from(u16::from_be_bytes([far[0], far[1]]));
            let start = data.len().checked_sub(distance)?;
            for k in 0..usize::from(token & 0x7f) + MIN_COPY {
                // A copy may overlap what it writes (a run of one byte).
                data.push(*data.get(start + k)?);
            }
            i += 3;
        }
    }
    Some(data)
}
