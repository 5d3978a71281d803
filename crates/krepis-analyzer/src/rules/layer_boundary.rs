//! `layer-boundary`.
