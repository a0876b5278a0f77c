//! `Content-Encoding: aws-chunked` bodies, as current SDKs send uploads: a series of
//! `<hex size>[;chunk-signature=...]\r\n<bytes>\r\n` chunks, a zero-size chunk, then trailing
//! headers (usually a checksum such as `x-amz-checksum-crc32:...`) and an empty line.

use bytes::{Bytes, BytesMut};

/// A decoded aws-chunked body: the payload and the trailing headers (names lower-cased).
#[derive(Debug, Default, PartialEq)]
pub struct Decoded {
    pub data: Bytes,
    pub trailers: Vec<(String, String)>,
}

/// Finds `\r\n` from `from`, returning the index of `\r`.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?.windows(2).position(|w| w == b"\r\n").map(|p| p + from)
}

/// One chunk as sent: its `chunk-signature` (signed streaming uploads) and its bytes.
#[derive(Debug, PartialEq)]
pub struct Chunk<'a> {
    pub signature: Option<&'a str>,
    pub data: &'a [u8],
}

/// A parsed aws-chunked body: every chunk including the final empty one, and the trailer lines
/// (`name:value`, as sent).
#[derive(Debug, Default, PartialEq)]
pub struct Parsed<'a> {
    pub chunks: Vec<Chunk<'a>>,
    pub trailer_lines: Vec<&'a str>,
}

/// Splits an aws-chunked body into its chunks and trailer lines. Errors describe what is malformed.
pub fn parse(body: &[u8]) -> Result<Parsed<'_>, String> {
    let mut out = Parsed::default();
    let mut pos = 0;
    loop {
        let eol = find_crlf(body, pos).ok_or("chunk header is not terminated by CRLF")?;
        let header = std::str::from_utf8(&body[pos..eol]).map_err(|_| "chunk header is not UTF-8")?;
        let mut fields = header.split(';');
        let size_hex = fields.next().unwrap_or("").trim();
        let signature = fields.find_map(|f| f.trim().strip_prefix("chunk-signature="));
        let size = usize::from_str_radix(size_hex, 16).map_err(|_| format!("invalid chunk size {size_hex:?}"))?;
        pos = eol + 2;
        if size == 0 {
            out.chunks.push(Chunk { signature, data: &[] });
            break;
        }
        let end = pos.checked_add(size).filter(|&e| e <= body.len()).ok_or("chunk is longer than the body")?;
        out.chunks.push(Chunk { signature, data: &body[pos..end] });
        pos = end;
        if body.get(pos..pos + 2) != Some(b"\r\n") {
            return Err("chunk data is not followed by CRLF".into());
        }
        pos += 2;
    }
    // Trailers: `name:value\r\n` lines until an empty line or the end of the body.
    while pos < body.len() {
        let eol = find_crlf(body, pos).unwrap_or(body.len());
        let line = std::str::from_utf8(&body[pos..eol]).map_err(|_| "trailer is not UTF-8")?;
        pos = eol + 2;
        if line.is_empty() {
            break;
        }
        if !line.contains(':') {
            return Err(format!("malformed trailer {line:?}"));
        }
        out.trailer_lines.push(line);
    }
    Ok(out)
}

/// Decodes a whole aws-chunked body. Errors describe what is malformed.
pub fn decode(body: &[u8]) -> Result<Decoded, String> {
    let parsed = parse(body)?;
    let mut out = BytesMut::with_capacity(body.len());
    for c in &parsed.chunks {
        out.extend_from_slice(c.data);
    }
    let trailers = parsed
        .trailer_lines
        .iter()
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| !name.trim().eq_ignore_ascii_case("x-amz-trailer-signature"))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    Ok(Decoded { data: out.freeze(), trailers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_with_trailer() {
        let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let d = decode(body).unwrap_or_default();
        assert_eq!(&d.data[..], b"hello world");
        assert_eq!(d.trailers, vec![("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())]);
    }

    #[test]
    fn signed_chunks_and_no_trailer() {
        let body = b"3;chunk-signature=abcd\r\nabc\r\n0;chunk-signature=ef01\r\n\r\n";
        let d = decode(body).unwrap_or_default();
        assert_eq!(&d.data[..], b"abc");
        assert!(d.trailers.is_empty());
    }

    #[test]
    fn malformed_bodies_are_errors() {
        assert!(decode(b"zz\r\nabc\r\n0\r\n\r\n").is_err());
        assert!(decode(b"10\r\nabc\r\n0\r\n\r\n").is_err());
        assert!(decode(b"3\r\nabcXX0\r\n\r\n").is_err());
        assert!(decode(b"3").is_err());
        assert!(decode(b"ffffffffffffffff\r\n").is_err());
    }
}
