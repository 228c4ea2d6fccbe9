module.exports = { slugify: (text) => text.toLowerCase().split(' ').join('-') }
