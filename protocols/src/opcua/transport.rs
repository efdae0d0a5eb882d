//! UA TCP transport (filled in next).
