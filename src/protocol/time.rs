//! AWS timestamp formats, through `aws-smithy-types`: ISO 8601 with milliseconds (XML bodies),
//! HTTP dates (headers), and epoch seconds (awsJson bodies).

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `2024-01-02T03:04:05.678Z`, as S3 writes `LastModified` in XML.
pub fn iso8601_millis(millis: i64) -> String {
    let secs = DateTime::from_secs(millis.div_euclid(1000));
    let base = secs.fmt(Format::DateTime).unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
    // `base` ends in `Z` with whole seconds; put the milliseconds in front of the `Z`.
    let stem = base.trim_end_matches('Z');
    format!("{stem}.{:03}Z", millis.rem_euclid(1000))
}

/// `Tue, 02 Jan 2024 03:04:05 GMT`, as in `Last-Modified`.
pub fn http_date(millis: i64) -> String {
    DateTime::from_secs(millis.div_euclid(1000))
        .fmt(Format::HttpDate)
        .unwrap_or_else(|_| "Thu, 01 Jan 1970 00:00:00 GMT".into())
}

/// Parses an HTTP date (`If-Modified-Since`) or an ISO 8601 timestamp into epoch seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    DateTime::from_str(s.trim(), Format::HttpDate)
        .or_else(|_| DateTime::from_str(s.trim(), Format::DateTime))
        .ok()
        .map(|d| d.secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(iso8601_millis(1_704_164_645_678), "2024-01-02T03:04:05.678Z");
        assert_eq!(iso8601_millis(1_704_164_645_000), "2024-01-02T03:04:05.000Z");
        assert_eq!(http_date(1_704_164_645_678), "Tue, 02 Jan 2024 03:04:05 GMT");
        assert_eq!(parse_http_date("Tue, 02 Jan 2024 03:04:05 GMT"), Some(1_704_164_645));
        assert_eq!(parse_http_date("garbage"), None);
    }
}
