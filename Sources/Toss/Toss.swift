// Toss module
