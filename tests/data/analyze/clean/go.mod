module clean.example

go 1.22
