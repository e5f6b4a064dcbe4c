package broken

func f() int { return notDefined }
