// Package script compiles a ser.cfg's route blocks into closures that run
// per message.
//
// The modules the config names are loaded by core/module (module.Load
// makes an instance of every module a loadmodule directive names and
// applies the modparams; Modules.Init initialises them in dependency
// order, Start and Stop run their tables' lifecycle). Compile checks the script — unknown functions, wrong
// argument counts, module fixup errors, route(n) without route[n],
// functions used in a block kind they do not allow, bad comparisons, bad
// regular expressions and addresses — reporting every error with its
// file:line:col, and turns each statement and condition into a closure
// once. Program.Run then executes a block for a message without
// re-parsing anything.
//
// Semantics follow SER: an action's value >0 is true, <0 false, and 0
// stops the whole script; break leaves the current block (the caller of
// route(n) continues), drop stops the script and marks the message
// dropped, return(n) leaves the block with value n. See README.md for the
// language reference.
package script
