// The migrations are embedded in the binary (diesel_migrations'
// embed_migrations!): rebuild when any of them changes, as diesel advises.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
