# [[[ ((( {{{ in a comment
container "c" {
  image   = "i"
  command = [for x in [[1, 2], [3]] : "${x[0]}-${length}"]
  environment = {
    A = "%{ for x in ["a", "b"] }${x}%{ endfor }"
    B = "%%{ not a directive } $${not.interpolated}"
    C = !true ? "x" : (1 + 2 * 3 > 4 ? "y" : "z")
  }
  user = "a\u00a0b"
}
