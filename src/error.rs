//! The crate's one error type.

use std::fmt;

/// What kind of failure an [`Error`] reports. More kinds may be added; match with a wildcard arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes are not a valid stream: a bad magic, a reserved or impossible value, trailing
    /// garbage, or a checksum mismatch.
    Corruption,
    /// The bytes end before the stream does (a truncated file or buffer).
    InsufficientData,
    /// The caller asked for something this codec cannot do: an out-of-range `tick_power`, a shape
    /// the format cannot hold, a destination of the wrong shape, non-finite input to a format that
    /// cannot store it.
    InvalidArgument,
    /// The stream was written by a newer version of the format than this code reads.
    UnsupportedVersion,
    /// Reading or writing a file or stream failed.
    Io,
}

/// An error with its [`ErrorKind`] and a message that says, in words, what is wrong.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<std::io::Error>,
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Creates an error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), source: None }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable description, without the kind prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn corruption(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corruption, message)
    }

    pub(crate) fn insufficient_data(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InsufficientData, message)
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn unsupported_version(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnsupportedVersion, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ErrorKind::Corruption => "corrupt stream",
            ErrorKind::InsufficientData => "truncated stream",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::UnsupportedVersion => "unsupported version",
            ErrorKind::Io => "I/O error",
        };
        write!(f, "lilcom: {kind}: {}", self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error { kind: ErrorKind::Io, message: err.to_string(), source: Some(err) }
    }
}
