// TossSandbox module
