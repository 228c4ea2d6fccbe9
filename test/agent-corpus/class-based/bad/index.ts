export default class Greeter {
  name = 'greeter'
  async execute(input: { name: string }) {
    return { text: `Hello, ${input.name}` }
  }
}
