package main

func greeting() string { return "hello from Go" }
