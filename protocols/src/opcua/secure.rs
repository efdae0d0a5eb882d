//! UA Secure Conversation (filled in next).
