//! Rebuilds when anything under `ui/` changes, including new files: the UI is embedded at
//! compile time and the embed macro alone only tracks files that already existed.

fn main() {
    println!("cargo:rerun-if-changed=ui");
}
