package credstore

// OpenSQLite opens a bare SQLite backend, for the conformance suite.
var OpenSQLite = openSQLite
