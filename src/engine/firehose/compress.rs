//! Firehose's S3 compression formats, each readable by the standard tools: GZIP (`.gz`, gzip),
//! ZIP (`.zip`, one entry), Snappy (`.snappy`, the snappy framing format) and HADOOP_SNAPPY
//! (`.snappy`, Hadoop's block format), or UNCOMPRESSED.

use std::io::Write;

/// A CompressionFormat value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Uncompressed,
    Gzip,
    Zip,
    Snappy,
    HadoopSnappy,
}

impl Compression {
    /// Parses the API's enum value.
    pub fn parse(s: &str) -> Option<Compression> {
        Some(match s {
            "UNCOMPRESSED" => Compression::Uncompressed,
            "GZIP" => Compression::Gzip,
            "ZIP" => Compression::Zip,
            "Snappy" => Compression::Snappy,
            "HADOOP_SNAPPY" => Compression::HadoopSnappy,
            _ => return None,
        })
    }

    /// The file extension Firehose appends.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::Uncompressed => "",
            Compression::Gzip => ".gz",
            Compression::Zip => ".zip",
            Compression::Snappy | Compression::HadoopSnappy => ".snappy",
        }
    }

    /// Compresses `data`. `name` is the entry name inside a ZIP archive.
    pub fn compress(self, data: &[u8], name: &str) -> std::io::Result<Vec<u8>> {
        match self {
            Compression::Uncompressed => Ok(data.to_vec()),
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 4), flate2::Compression::default());
                e.write_all(data)?;
                e.finish()
            }
            Compression::Zip => {
                let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
                w.start_file(name, opts).map_err(std::io::Error::other)?;
                w.write_all(data)?;
                Ok(w.finish().map_err(std::io::Error::other)?.into_inner())
            }
            Compression::Snappy => {
                let mut w = snap::write::FrameEncoder::new(Vec::with_capacity(data.len() / 2));
                w.write_all(data)?;
                w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
            }
            Compression::HadoopSnappy => {
                // Hadoop's BlockCompressorStream: per block, the uncompressed length, then
                // each compressed chunk prefixed by its length (big-endian u32s).
                const BLOCK: usize = 256 * 1024;
                let mut out = Vec::with_capacity(data.len() / 2);
                let mut enc = snap::raw::Encoder::new();
                for chunk in data.chunks(BLOCK) {
                    let c = enc.compress_vec(chunk).map_err(std::io::Error::other)?;
                    out.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
                    out.extend_from_slice(&(c.len() as u32).to_be_bytes());
                    out.extend_from_slice(&c);
                }
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    const DATA: &[u8] = b"{\"a\":1}\n{\"a\":2}\n";

    #[test]
    fn each_format_decodes_back() -> std::io::Result<()> {
        let gz = Compression::Gzip.compress(DATA, "x")?;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut out)?;
        assert_eq!(out, DATA);

        let z = Compression::Zip.compress(DATA, "entry")?;
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(z)).map_err(std::io::Error::other)?;
        let mut out = Vec::new();
        archive.by_index(0).map_err(std::io::Error::other)?.read_to_end(&mut out)?;
        assert_eq!(out, DATA);

        let s = Compression::Snappy.compress(DATA, "x")?;
        let mut out = Vec::new();
        snap::read::FrameDecoder::new(&s[..]).read_to_end(&mut out)?;
        assert_eq!(out, DATA);

        let h = Compression::HadoopSnappy.compress(DATA, "x")?;
        let raw_len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let c_len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
        assert_eq!(raw_len, DATA.len());
        let out = snap::raw::Decoder::new().decompress_vec(&h[8..8 + c_len]).map_err(std::io::Error::other)?;
        assert_eq!(out, DATA);
        assert_eq!(Compression::Uncompressed.compress(DATA, "x")?, DATA);
        Ok(())
    }
}
