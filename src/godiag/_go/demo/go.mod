module godiag.dev/demo

go 1.21
