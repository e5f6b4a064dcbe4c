module godiag.test

go 1.21
