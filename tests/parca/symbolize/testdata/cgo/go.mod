module example.com/symcgo

go 1.24
