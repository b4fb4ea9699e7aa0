module github.com/sigv4/sigv4

go 1.24
