// Web module
