// FastCGI module
