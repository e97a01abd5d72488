module example.com/symgo

go 1.24
