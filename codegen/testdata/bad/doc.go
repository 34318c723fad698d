// Package bad is where the tests of bad input put their interfaces.
package bad
