//! `local-stack`: development only. The issuer, premium-content and content-consumer in one
//! process on loopback, the seed's three calls, then serving until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use clap::Parser;
use local_stack::{Ports, launch};

/// Command line of `local-stack`.
#[derive(Debug, Parser)]
#[command(
    name = "local-stack",
    version,
    about = "Development only: runs a Cognito-compatible issuer (for development and tests, never \
             production), premium-content and content-consumer on 127.0.0.1, makes the seed's \
             three calls and keeps serving until Ctrl-C or SIGTERM."
)]
struct Cli {
    /// content-consumer's port (a busy port falls back to a free one; 0 = any).
    #[arg(long, env = "LOCAL_STACK_CONSUMER_PORT", default_value_t = 8080)]
    consumer_port: u16,
    /// premium-content's port.
    #[arg(long, env = "LOCAL_STACK_PREMIUM_PORT", default_value_t = 8081)]
    premium_port: u16,
    /// The issuer's port.
    #[arg(long, env = "LOCAL_STACK_ISSUER_PORT", default_value_t = 8082)]
    issuer_port: u16,
    /// Exit after the three calls (status 0 only when all three answered as the seed does).
    #[arg(long)]
    once: bool,
    /// LOG_LEVEL (warn by default) and LOG_FORMAT (text by default) for the services' logs.
    #[command(flatten)]
    log: telemetry::LogArgs,
}

/// The services' logs go to standard error, leaving standard output to the walk-through; only
/// warnings by default, so the walk-through stays readable.
const LOGS: telemetry::Defaults = telemetry::Defaults {
    level: "warn",
    format: telemetry::LogFormat::Text,
    output: telemetry::LogOutput::Stderr,
};

// A plain tokio runtime, as premium-content's, rather than an actix System: actix-server ends
// the System it runs in once it has stopped on a signal, and with three servers in one System
// the first idle one to stop would cut off the others' requests in flight.
#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = telemetry::init("local-stack", env!("CARGO_PKG_VERSION"), &cli.log, LOGS) {
        eprintln!("local-stack: {error}");
        return ExitCode::from(2);
    }
    println!(
        "local-stack: development only. The embedded Cognito-compatible issuer is for development \
         and tests, never production."
    );
    let ports = Ports {
        issuer: cli.issuer_port,
        premium: cli.premium_port,
        consumer: cli.consumer_port,
    };
    let stack = match launch(ports).await {
        Ok(stack) => stack,
        Err(error) => {
            eprintln!("local-stack: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!();
    println!("  issuer (local Cognito)  {}", stack.issuer_url);
    println!(
        "  premium-content         {}/home/premium",
        stack.premium_base
    );
    println!(
        "  content-consumer        {}/content/...",
        stack.consumer_base
    );
    println!();
    let calls = match stack.demo().await {
        Ok(calls) => calls,
        Err(error) => {
            eprintln!("local-stack: {error}");
            stack.stop().await;
            return ExitCode::FAILURE;
        }
    };
    for call in &calls {
        println!("GET {}", call.url);
        println!("    {} {}", call.status, call.body.trim());
    }
    let all_as_expected = calls.iter().all(|c| c.as_expected);
    if !all_as_expected {
        eprintln!("local-stack: some answers differ from the seed's (see above)");
    }
    if cli.once {
        stack.stop().await;
        return if all_as_expected {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    println!();
    println!("Serving until Ctrl-C or SIGTERM. Try:");
    for command in stack.curl_commands() {
        println!("  {command}");
    }
    // The servers stop by themselves on either signal; waiting for them (rather than for one
    // signal here) is what makes a process manager's SIGTERM end the program too.
    match stack.stopped().await {
        Ok(()) => {
            println!("local-stack: stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("local-stack: {error}");
            ExitCode::FAILURE
        }
    }
}
