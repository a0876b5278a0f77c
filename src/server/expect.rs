//! `Expect: 100-continue` on requests with an empty body. S3 answers `100 Continue` before the
//! final response even when there is no body to send, and botocore (the AWS CLI, boto3) relies on
//! it: without it, its connection keeps a stale status line and the next request on the same
//! keep-alive connection hangs. hyper skips the interim response for empty bodies, so this
//! wrapper around the connection's I/O writes it just before the final response when the handler
//! asks for it.

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Set by the request handler: the next response on this connection gets a `100 Continue` first.
#[derive(Clone, Default)]
pub struct ContinueFlag(Arc<AtomicBool>);

impl ContinueFlag {
    /// Requests the interim response for the request being handled.
    pub fn request(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Whether a request expects `100 Continue` and hyper will not send it (the body is empty).
pub fn needs_continue(parts: &http::request::Parts) -> bool {
    let expects = parts.headers.get(http::header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let empty = parts.headers.get(http::header::TRANSFER_ENCODING).is_none()
        && parts.headers.get(http::header::CONTENT_LENGTH).is_none_or(|v| v.as_bytes() == b"0");
    expects && empty && parts.version == http::Version::HTTP_11
}

/// A connection's I/O with the `100 Continue` injection.
pub struct ContinueIo<T> {
    inner: T,
    flag: ContinueFlag,
    /// Bytes of the interim response already written (while injecting).
    written: Option<usize>,
}

impl<T> ContinueIo<T> {
    /// Wraps `inner`; the handler sets `flag`.
    pub fn new(inner: T, flag: ContinueFlag) -> Self {
        ContinueIo { inner, flag, written: None }
    }
}

impl<T: AsyncWrite + Unpin> ContinueIo<T> {
    /// Writes the pending interim response, if any. Ready(Ok) once nothing is pending.
    fn poll_interim(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.written.is_none() && self.flag.0.swap(false, Ordering::AcqRel) {
            self.written = Some(0);
        }
        while let Some(done) = self.written {
            if done == CONTINUE.len() {
                self.written = None;
                break;
            }
            match Pin::new(&mut self.inner).poll_write(cx, &CONTINUE[done..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.written = Some(done + n),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ContinueIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ContinueIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.poll_interim(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_write(cx, buf),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<std::io::Result<usize>> {
        match self.poll_interim(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_write_vectored(cx, bufs),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
