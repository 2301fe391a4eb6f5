//! The `attest` binary: all of it lives in the library.

fn main() -> std::process::ExitCode {
    attest::cli::main()
}
