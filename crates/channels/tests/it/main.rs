//! Interoperability with independent implementations of the platforms' crypto.

mod wechatpy;
