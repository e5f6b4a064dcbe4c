module broken.example

go 1.22
