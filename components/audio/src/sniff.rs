//! The type of an audio sent as `application/octet-stream` (what generated clients send for a
//! file), read from its first bytes: the signatures of the containers call recordings come in.
//! An audio none of them starts is kept as `application/octet-stream`: the client's bytes,
//! unlabelled, rather than refused.

/// How many first bytes [`audio_type`] needs.
pub const HEAD_BYTES: usize = 12;

/// `audio/wav`, `audio/ogg`, `audio/flac`, `audio/mpeg` or `audio/amr` for an audio starting
/// with `head`, or `None`.
pub fn audio_type(head: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"RIFF") && head.get(8..12) == Some(b"WAVE") {
        Some("audio/wav")
    } else if starts(b"OggS") {
        Some("audio/ogg")
    } else if starts(b"fLaC") {
        Some("audio/flac")
    } else if starts(b"#!AMR") {
        Some("audio/amr")
    } else if starts(b"ID3") || matches!(head, [0xFF, second, ..] if second & 0xE0 == 0xE0) {
        // An ID3 tag, or an MPEG audio frame's 11 bits of sync.
        Some("audio/mpeg")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_signatures_are_named_and_others_are_not() {
        let wav = b"RIFF\x24\x00\x00\x00WAVEfmt ";
        assert_eq!(audio_type(wav), Some("audio/wav"));
        assert_eq!(audio_type(b"RIFF\x24\x00\x00\x00AVI LIST"), None);
        assert_eq!(audio_type(b"OggS\x00\x02"), Some("audio/ogg"));
        assert_eq!(audio_type(b"fLaC\x00\x00\x00\x22"), Some("audio/flac"));
        assert_eq!(audio_type(b"#!AMR\n"), Some("audio/amr"));
        assert_eq!(audio_type(b"ID3\x04\x00"), Some("audio/mpeg"));
        assert_eq!(audio_type(&[0xFF, 0xFB, 0x90, 0x64]), Some("audio/mpeg"));
        assert_eq!(audio_type(&[0xFF, 0x00]), None);
        assert_eq!(audio_type(b"RIFF"), None);
        assert_eq!(audio_type(b""), None);
        assert_eq!(audio_type(b"{\"json\": 1}"), None);
    }
}
