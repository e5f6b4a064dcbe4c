module godiag.dev/gotests

go 1.21
