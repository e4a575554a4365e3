print("gudok")
