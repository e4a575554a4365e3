print("toss-sandbox")
