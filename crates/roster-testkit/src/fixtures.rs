//! Shared builders for the cases (placeholder).
