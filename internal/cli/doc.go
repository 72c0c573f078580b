// Package cli implements the asym command line: subcommands, flags over a
// strictly decoded config file, progress reporting and exit codes.
//
// Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error,
// 3 training diverged, 130 interrupted (SIGINT/SIGTERM, after saving a
// checkpoint).
package cli
