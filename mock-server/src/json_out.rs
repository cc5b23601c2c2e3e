//! JSON text appended to a buffer: strings escaped exactly as serde_json
//! escapes them, integers, and the date shapes the dialects write. The
//! hot responses are written straight into their body with these, without
//! a `serde_json::Value` or a `String` per field.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// What serde_json writes for each byte below 0x80: `0` as is, `u` as
/// `\u00XX`, anything else after a backslash. Bytes from 0x80 are UTF-8
/// continuation or lead bytes and go out as they are.
static ESCAPE: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0A] = b'n';
    t[0x0C] = b'f';
    t[0x0D] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// `s` as a JSON string, quotes included.
pub fn string(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    escaped(out, s);
    out.push(b'"');
}

/// The parts as one JSON string (`Last, First` without formatting it
/// into a `String` first).
pub fn string_of(out: &mut Vec<u8>, parts: &[&str]) {
    out.push(b'"');
    for p in parts {
        escaped(out, p);
    }
    out.push(b'"');
}

/// The contents of a JSON string for `s`, without the quotes. Most text
/// needs no escape at all, so it is scanned eight bytes at a time and
/// copied in one piece; only a word holding a byte to escape is looked at
/// byte by byte.
pub fn escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // The first byte not yet copied to `out`.
    let mut start = 0;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if needs_escape(u64::from_le_bytes(word)) {
            for (k, &b) in chunk.iter().enumerate() {
                escape_byte(out, bytes, &mut start, at + k, b);
            }
        }
        at += 8;
    }
    let rest = chunks.remainder();
    // The tail, padded with a letter (which needs no escape) to a word.
    let mut word = [b'a'; 8];
    word[..rest.len()].copy_from_slice(rest);
    if needs_escape(u64::from_le_bytes(word)) {
        for (k, &b) in rest.iter().enumerate() {
            escape_byte(out, bytes, &mut start, at + k, b);
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Whether any byte of `word` is below 0x20, a quote or a backslash (the
/// classic "has a byte less than" and "has a zero byte" tests, which are
/// exact for whether any byte matches).
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    control | quote | backslash != 0
}

/// Escapes byte `i` (`b`) if it needs it, copying the run before it.
#[inline]
fn escape_byte(out: &mut Vec<u8>, bytes: &[u8], start: &mut usize, i: usize, b: u8) {
    let e = match ESCAPE.get(usize::from(b)) {
        Some(&e) if e != 0 => e,
        _ => return,
    };
    out.extend_from_slice(&bytes[*start..i]);
    *start = i + 1;
    if e == b'u' {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xF)],
        ]);
    } else {
        out.extend_from_slice(&[b'\\', e]);
    }
}

/// An integer.
pub fn int(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

pub fn bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

pub fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"null");
}

/// `n` as a JSON string of at least `width` digits, zero-padded (`"07"`),
/// as `format!("{n:0width$}")` writes it.
pub fn padded(out: &mut Vec<u8>, n: u32, width: u8) {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(n);
    out.push(b'"');
    for _ in digits.len()..usize::from(width) {
        out.push(b'0');
    }
    out.extend_from_slice(digits.as_bytes());
    out.push(b'"');
}

/// Whether [`date`] and [`date_time`] can write `t` digit by digit: a
/// year of four digits, as `%Y` writes it unpadded and unsigned.
pub fn plain_year(t: DateTime<Utc>) -> bool {
    (0..=9999).contains(&t.year())
}

fn digits(out: &mut Vec<u8>, n: u32, width: usize) {
    let mut buf = [b'0'; 4];
    let mut n = n;
    for slot in buf[..width].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend_from_slice(&buf[..width]);
}

/// `yyyy-MM-dd` (chrono's `%Y-%m-%d` for a year in 0..=9999), no quotes.
pub fn date(out: &mut Vec<u8>, t: DateTime<Utc>) {
    digits(out, u32::try_from(t.year()).unwrap_or(0), 4);
    out.push(b'-');
    digits(out, t.month(), 2);
    out.push(b'-');
    digits(out, t.day(), 2);
}

/// `yyyy-MM-ddTHH:mm:ss` (chrono's `%Y-%m-%dT%H:%M:%S`), no quotes.
pub fn date_time(out: &mut Vec<u8>, t: DateTime<Utc>) {
    date(out, t);
    out.push(b'T');
    digits(out, t.hour(), 2);
    out.push(b':');
    digits(out, t.minute(), 2);
    out.push(b':');
    digits(out, t.second(), 2);
}

/// Milliseconds of the second, three digits (`%.3f` without the dot).
pub fn millis(out: &mut Vec<u8>, t: DateTime<Utc>) {
    digits(out, t.timestamp_subsec_millis() % 1000, 3);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn every_ascii_character_is_escaped_as_serde_json_escapes_it() {
        for c in (0u8..0x80).map(char::from) {
            let s = format!("a{c}b");
            assert_eq!(
                text(|o| string(o, &s)),
                serde_json::to_string(&s).unwrap(),
                "{:#x}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn a_word_needs_escaping_exactly_when_one_of_its_bytes_does() {
        for b in 0..=255u8 {
            let expected = b < 0x20 || b == b'"' || b == b'\\';
            for at in 0..8 {
                let mut word = [b'a'; 8];
                word[at] = b;
                assert_eq!(
                    needs_escape(u64::from_le_bytes(word)),
                    expected,
                    "{b:#x} at {at}"
                );
                let mut high = [0xC3; 8];
                high[at] = b;
                assert_eq!(
                    needs_escape(u64::from_le_bytes(high)),
                    expected,
                    "{b:#x} among 0xC3"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn strings_are_written_as_serde_json_writes_them(s in any::<String>(), t in "[\\x00-\\x7f\"\\\\é]{0,40}", u in "[a-z\"\\\\\\x00-\\x1fé]{0,40}") {
            prop_assert_eq!(text(|o| string(o, &u)), serde_json::to_string(&u).unwrap());
            prop_assert_eq!(text(|o| string(o, &s)), serde_json::to_string(&s).unwrap());
            prop_assert_eq!(text(|o| string(o, &t)), serde_json::to_string(&t).unwrap());
            let joined = format!("{t}, {s}");
            prop_assert_eq!(text(|o| string_of(o, &[&t, ", ", &s])), serde_json::to_string(&joined).unwrap());
        }

        #[test]
        fn integers_are_written_as_serde_json_writes_them(n in any::<i64>()) {
            prop_assert_eq!(text(|o| int(o, n)), serde_json::to_string(&n).unwrap());
        }

        #[test]
        fn padded_numbers_are_written_as_format_pads_them(n in any::<u32>(), width in 0u8..12) {
            let w = usize::from(width);
            prop_assert_eq!(text(|o| padded(o, n, width)), format!("\"{n:0w$}\""));
        }

        #[test]
        fn dates_are_written_as_chrono_formats_them(ms in -62_135_596_800_000i64..253_402_300_799_999) {
            let t = DateTime::from_timestamp_millis(ms).expect("in range");
            prop_assert!(plain_year(t));
            prop_assert_eq!(text(|o| date(o, t)), t.format("%Y-%m-%d").to_string());
            prop_assert_eq!(text(|o| date_time(o, t)), t.format("%Y-%m-%dT%H:%M:%S").to_string());
            prop_assert_eq!(text(|o| millis(o, t)), t.format("%3f").to_string());
        }
    }
}
