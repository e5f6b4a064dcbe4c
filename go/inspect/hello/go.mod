module example.com/inspecthello

go 1.21

require example.com/greet v0.0.0

replace example.com/greet => ./greet
